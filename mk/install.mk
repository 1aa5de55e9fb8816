# mk/install.mk: what `make install` puts where, and the man pages and
# bash completion it installs.  Included by the top-level Makefile, which
# defines BUILD, Q and the programs' rules.
#
#   make programs     just what is installed: no tests, fuzzers or test tools
#   make install      into $(DESTDIR)$(PREFIX) (PREFIX=/usr/local by default)
#   make uninstall    remove exactly what install put there
#
# The layout follows the FHS: guest.elf and lguest-stub are binaries for
# this architecture (a guest kernel and a static program), so they live in
# lib/lguest, not share/ (lintian's arch-dependent-file-in-usr-share), as
# do the benchmarks lguest-compare runs.  The launcher looks there for its
# default kernel and its stub (launcher/install_paths.h).

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
PKGLIBDIR = $(PREFIX)/lib/lguest
PKGDATADIR = $(PREFIX)/share/lguest
DOCDIR = $(PREFIX)/share/doc/lguest
MAN1DIR = $(PREFIX)/share/man/man1
COMPLETIONDIR = $(PREFIX)/share/bash-completion/completions

INSTALL_BIN := lguest lguest-vhost-blk lguest-trace lguest-compare
# ringbench-lines: ringbench runs it for its cache-lines columns.
INSTALL_LIB := guest.elf lguest-stub hostbench netbench ringbench ringbench-lines
MAN_PAGES := $(patsubst man/%.scd,$(BUILD)/man/%,$(wildcard man/*.1.scd))
INSTALL_DOCS := README.md $(wildcard docs/*.md) $(wildcard docs/compare/*)
INSTALL_IMAGES := images/mkimage.sh $(shell find images/demo -type f)

programs: $(addprefix $(BUILD)/,$(INSTALL_BIN) $(INSTALL_LIB)) $(MAN_PAGES)
all: $(MAN_PAGES)

# The launcher's compiled-in lib directory (install_paths.c, and --help in
# options.c) follows PREFIX, as do the man pages.  This file holds the
# directories and changes only when they do, so that then, and only then,
# those rebuild: `make install PREFIX=/usr` after a plain `make` gives an
# lguest that looks in /usr/lib/lguest.
# (The unit test of options.c compiles it from source: it needs it too.)
INSTALL_DIRS_SEEN = $(PKGLIBDIR) $(PKGDATADIR) $(DOCDIR)
LIBDIR_USERS := $(BUILD)/host/launcher/install_paths.o $(BUILD)/host/launcher/options.o \
	$(BUILD)/tests/test_options
$(LIBDIR_USERS): HOST_CFLAGS += -DLGUEST_LIBDIR='"$(PKGLIBDIR)"'
$(LIBDIR_USERS): $(BUILD)/install-dirs

$(BUILD)/install-dirs: FORCE
	@mkdir -p $(dir $@)
	$(Q)echo '$(INSTALL_DIRS_SEEN)' | cmp -s - $@ || echo '$(INSTALL_DIRS_SEEN)' >$@

# Man pages are scdoc (man/*.1.scd), naming the directories this build
# installs into as @PKGLIBDIR@, @PKGDATADIR@ and @DOCDIR@.
$(BUILD)/man/%.1: man/%.1.scd $(BUILD)/install-dirs
	@mkdir -p $(dir $@)
	@echo "  SCDOC   $@"
	$(Q)sed -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|g' -e 's|@PKGDATADIR@|$(PKGDATADIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' $< | scdoc >$@.tmp
	$(Q)mv $@.tmp $@

# One completion file serves every command; bash-completion loads a
# command's completion by the command's name, hence the links.
COMPLETION_LINKS := lguest-vhost-blk lguest-trace lguest-compare

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(MAN1DIR) \
		$(DESTDIR)$(DOCDIR)/compare $(DESTDIR)$(COMPLETIONDIR)
	install -m 755 $(addprefix $(BUILD)/,$(INSTALL_BIN)) $(DESTDIR)$(BINDIR)/
	install -m 755 $(addprefix $(BUILD)/,$(filter-out guest.elf,$(INSTALL_LIB))) \
		$(DESTDIR)$(PKGLIBDIR)/
	install -m 644 $(BUILD)/guest.elf $(DESTDIR)$(PKGLIBDIR)/
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MAN1DIR)/
	install -m 644 $(filter-out docs/compare/%,$(INSTALL_DOCS)) $(DESTDIR)$(DOCDIR)/
	install -m 644 $(filter docs/compare/%,$(INSTALL_DOCS)) $(DESTDIR)$(DOCDIR)/compare/
	install -m 644 completion/lguest.bash $(DESTDIR)$(COMPLETIONDIR)/lguest
	for c in $(COMPLETION_LINKS); do ln -sf lguest $(DESTDIR)$(COMPLETIONDIR)/$$c; done
	for f in $(INSTALL_IMAGES); do \
		install -D -m $$(test -x $$f && echo 755 || echo 644) $$f \
			$(DESTDIR)$(PKGDATADIR)/$$f || exit 1; \
	done

# Files, then whatever directories of lguest's own that leaves empty
# (one that holds something we did not put there stays).  Shared ones
# (bin, man1, completions) stay as they were found.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INSTALL_BIN)) \
		$(addprefix $(DESTDIR)$(PKGLIBDIR)/,$(INSTALL_LIB)) \
		$(addprefix $(DESTDIR)$(MAN1DIR)/,$(notdir $(MAN_PAGES))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(INSTALL_DOCS:docs/%=%)) \
		$(addprefix $(DESTDIR)$(COMPLETIONDIR)/,lguest $(COMPLETION_LINKS)) \
		$(addprefix $(DESTDIR)$(PKGDATADIR)/,$(INSTALL_IMAGES))
	for d in $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(PKGDATADIR) $(DESTDIR)$(DOCDIR); do \
		[ ! -d $$d ] || find $$d -depth -type d -empty -delete; \
	done

FORCE:
.PHONY: programs install uninstall FORCE
