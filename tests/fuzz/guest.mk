# tests/fuzz/guest.mk: the guest's parsers of what its disk and its network
# hand it, built for the host as the unit tests build them.
fuzz_ext2_SRCS := guest/fs/ext2.c
fuzz_guest_net_SRCS := guest/net/checksum.c guest/net/addr.c guest/net/iface.c \
	guest/net/ethernet.c guest/net/arp.c guest/net/ipv4.c guest/net/icmp.c guest/net/udp.c \
	guest/lib/format.c guest/lib/parse.c guest/lib/sort.c tests/unit/net_fake.c
