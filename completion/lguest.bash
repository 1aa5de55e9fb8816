# SPDX-License-Identifier: GPL-2.0
# bash completion for lguest, lguest-vhost-blk, lguest-trace and
# lguest-compare (bash-completion loads it by command name: installed as
# .../completions/lguest, with the other names linked to it).
#
# Options come with their values: --ring=<TAB> offers the layouts, and
# after a comma in --block=, --vhost-user-blk=, --tunnet=, --tap= and
# --console= the per-device settings (ring=, qsize=, indirect=, ...).  The
# option lists must match each program's --help (tests/e2e/cases_install.py).

_lguest_ring_settings="ring= qsize= indirect= event_idx="
_lguest_qsizes="4 8 16 32 64 128 256 512 1024 2048 4096 8192 16384 32768"

# COMPREPLY: compgen's words, one per line (none of ours has a space).
_lguest_compgen()
{
	mapfile -t COMPREPLY < <(compgen "$@")
}

# Reply with the words of $1 that start with $2; one ending in "=" wants
# its value next, so no space after it.
_lguest_reply()
{
	_lguest_compgen -W "$1" -- "$2"
	[[ ${COMPREPLY[*]} == *= ]] && compopt -o nospace
}

# $1: the comma-separated list typed after "--option=" ("disk.img,ring=sp"),
# $2: the settings that option takes.  Completes the last item, keeping the
# rest.  bash breaks words at "=", so a reply replaces only what follows
# the last "=" in $1: that much is stripped from each reply.
_lguest_settings()
{
	local list=$1 settings=$2 head='' item=$1 values
	if [[ $list == *,* ]]; then
		head=${list%,*},
		item=${list##*,}
	fi
	case $item in
	ring=*) values="draft3 split packed" ;;
	indirect=* | event_idx=*) values="on off" ;;
	qsize=*) values=$_lguest_qsizes ;;
	device=*) values="launcher kernel" ;;
	aio=*) values="io_uring threads sync" ;;
	queues=*) values="1 2 3 4" ;;
	*=*) return ;; # a number or a MAC: nothing to offer
	*)
		_lguest_compgen -P "$head" -W "$settings" -- "$item"
		compopt -o nospace
		;;
	esac
	[[ $values ]] &&
		_lguest_compgen -P "${head}${item%%=*}=" -W "$values" -- "${item#*=}"
	[[ $list == *=* ]] && COMPREPLY=("${COMPREPLY[@]#"${list%=*}="}")
}

_lguest()
{
	local cur prev words cword split
	# -s: "--opt=value" is one word, split into prev (--opt) and cur (value).
	_init_completion -s || return
	local opts="--mem= --block= --poll= --vhost-user-blk= --tunnet= --tap= --user=
		--chroot= --seccomp= --console= --ring= --qsize= --no-ioeventfd --backend=
		--kvm-device= --trace --trace= --trace-file= --trace-buffer= --stats
		--stats-json= -v --verbose -h --help -V --version"
	local i
	for ((i = 1; i < cword; i++)); do
		[[ ${words[i]} == -- ]] && return # the guest's commands: nothing to offer
	done

	# A value, after "--opt=" or (getopt takes both) "--opt ".
	case $prev in
	--ring) _lguest_reply "draft3 split packed" "$cur" ;;
	--qsize) _lguest_reply "$_lguest_qsizes" "$cur" ;;
	--backend) _lguest_reply "auto kvm process" "$cur" ;;
	--seccomp) _lguest_reply "on off" "$cur" ;;
	--mem) _lguest_reply "64M 128M 256M 512M 1G 2G" "$cur" ;;
	--block)
		if [[ $cur == *,* ]]; then
			_lguest_settings "$cur" "ro device= aio= poll= queues= $_lguest_ring_settings"
		else
			_filedir
		fi
		;;
	--vhost-user-blk)
		if [[ $cur == *,* ]]; then
			_lguest_settings "$cur" "$_lguest_ring_settings"
		else
			_filedir
		fi
		;;
	--tunnet | --tap)
		if [[ $cur == *,* ]]; then
			_lguest_settings "$cur" "mac= $_lguest_ring_settings"
		elif [[ $prev == --tap ]]; then
			_lguest_reply "$(ls /sys/class/net 2>/dev/null)" "$cur"
		fi
		;;
	--console) _lguest_settings "$cur" "$_lguest_ring_settings" ;;
	--user) _lguest_compgen -u -- "$cur" ;;
	--chroot) _filedir -d ;;
	--kvm-device | --trace-file | --stats-json) _filedir ;;
	--poll | --trace-buffer) ;; # numbers
	*)
		[[ $split == true ]] && return # --trace=FILTER
		if [[ $cur == -* ]]; then
			_lguest_reply "$opts" "$cur"
		else
			_filedir # KERNEL
		fi
		;;
	esac
}

_lguest_vhost_blk()
{
	local cur prev words cword split
	_init_completion -s || return
	if [[ $split == true ]]; then
		case $prev in
		--socket) _filedir ;;
		--user) _lguest_compgen -u -- "$cur" ;;
		esac
		return
	fi
	if [[ $cur == -* ]]; then
		_lguest_reply "--socket= --once --stats --no-packed --trace --user= -v --verbose
			-h --help" "$cur"
	elif [[ $cur == *,* ]]; then
		_lguest_compgen -P "${cur%,*}," -W "ro" -- "${cur##*,}"
	else
		_filedir # IMAGE
	fi
}

_lguest_trace()
{
	local cur prev words cword split
	_init_completion -s || return
	case $prev in
	--svg) _filedir svg ;&
	--requests | --first | --dev) return ;;
	esac
	[[ $split == true ]] && return
	if [[ $cur == -* ]]; then
		_lguest_reply "--svg --text --requests --first --dev -h --help" "$cur"
	else
		_filedir json # TRACE.json
	fi
}

_lguest_compare()
{
	local cur prev words cword split
	_init_completion -s || return
	case $prev in
	--backend) _lguest_reply "all auto kvm process" "$cur" ;&
	--repeats) return ;;
	--out | --build | --before)
		_filedir -d
		return
		;;
	--doc)
		_filedir md
		return
		;;
	--only)
		local sections="block net hcall rings boot placement"
		if [[ $cur == *,* ]]; then
			_lguest_compgen -P "${cur%,*}," -W "$sections" -- "${cur##*,}"
		else
			_lguest_compgen -W "$sections" -- "$cur"
		fi
		return
		;;
	esac
	[[ $split == true ]] && return
	_lguest_reply "--quick --out --build --repeats --no-net --backend --doc --only --before
		-h --help" "$cur"
}

complete -F _lguest lguest
complete -F _lguest_vhost_blk lguest-vhost-blk
complete -F _lguest_trace lguest-trace
complete -F _lguest_compare lguest-compare
