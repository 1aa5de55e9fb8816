// SPDX-License-Identifier: GPL-2.0
/*
 * addr.c: IPv4 addresses and MACs as people write them, and what the
 * stack's error numbers mean.
 *
 * The parser is strict, like parse_u64: four decimal numbers 0..255
 * separated by dots and nothing else.  Leading zeros are refused because
 * inet_aton reads "010" as octal 8, and an address that means different
 * things to different tools is better rejected.
 */
#include "lib.h"
#include "net.h"

/* One decimal byte at *s; leaves *s after it. */
static bool parse_byte(const char **s, uint32_t *out)
{
	const char *p = *s;
	uint32_t v = 0;
	int digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4) {
		v = v * 10 + (uint32_t)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || digits == 4 || v > 255 || (digits > 1 && **s == '0'))
		return false;
	*s = p;
	*out = v;
	return true;
}

/* An address at the start of s, ending at *end. */
static bool parse_ip_prefix(const char *s, const char **end, uint32_t *addr)
{
	uint32_t v = 0, byte;

	for (int i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return false;
		if (!parse_byte(&s, &byte))
			return false;
		v = v << 8 | byte;
	}
	*end = s;
	*addr = v;
	return true;
}

bool net_parse_ip(const char *s, uint32_t *addr)
{
	const char *end;

	return parse_ip_prefix(s, &end, addr) && *end == '\0';
}

bool net_parse_cidr(const char *s, uint32_t *addr, unsigned int *prefix)
{
	const char *end;
	uint32_t a, len;

	if (!parse_ip_prefix(s, &end, &a) || *end != '/')
		return false;
	end++;
	if (!parse_byte(&end, &len) || *end != '\0' || len > 32)
		return false;
	*addr = a;
	*prefix = len;
	return true;
}

char *net_format_ip(uint32_t addr, char buf[NET_IP_STR_MAX])
{
	ksnprintf(buf, NET_IP_STR_MAX, "%u.%u.%u.%u", addr >> 24, addr >> 16 & 0xff,
		  addr >> 8 & 0xff, addr & 0xff);
	return buf;
}

char *net_format_mac(const uint8_t mac[6], char buf[NET_MAC_STR_MAX])
{
	ksnprintf(buf, NET_MAC_STR_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		  mac[3], mac[4], mac[5]);
	return buf;
}

const char *net_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case NET_ENODEV:
		return "no network device, or it stopped";
	case NET_ENOTCONF:
		return "no address (ip ADDR/PREFIX)";
	case NET_EUNREACH:
		return "no route (not on our subnet, or our own address)";
	case NET_EINVAL:
		return "invalid argument";
	case NET_EBUSY:
		return "port in use, or no room to bind";
	case NET_ETIMEDOUT:
		return "timed out";
	case NET_EAGAIN:
		return "nothing received";
	default:
		return "unknown error";
	}
}
