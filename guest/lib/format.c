// SPDX-License-Identifier: GPL-2.0
/*
 * format.c: kvsnprintf and ksnprintf, the guest's snprintf.
 *
 * Beyond what lib.h promises, the rest of printf's integer flags (' ', '+'
 * and '#'), precision for integers and the h and hh modifiers work as in C
 * too, since the format attribute lets callers write them without a
 * warning.  Unknown conversions are copied out as written.  Integers are
 * formatted with 64-bit division only: the guest has no floating point.
 */
#include "lib.h"

/*
 * Not <limits.h>: with -nostdinc, GCC's copy looks for a libc one to
 * include_next and fails.
 */
#ifndef INT_MAX
#define INT_MAX __INT_MAX__
#define INT_MIN (-INT_MAX - 1)
#endif

/* Where output goes: the first size - 1 bytes are kept, the rest only counted. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_n(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left;  /* '-' */
	bool zero;  /* '0' */
	bool plus;  /* '+' */
	bool space; /* ' ' */
	bool alt;   /* '#' */
	int width;  /* 0 if none */
	int prec;   /* -1 if none */
};

/* Pad a piece of text that has no sign or prefix (%s, %c) to the field width. */
static void put_text(struct out *o, const struct spec *sp, const char *s, int n)
{
	if (!sp->left)
		put_n(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		put_n(o, ' ', sp->width - n);
}

/*
 * One integer: [spaces] [sign or 0x] [zeros] digits [spaces].  Zeros come
 * from the precision, or from the '0' flag when there is no precision and
 * no '-', as C has it.
 */
static void put_int(struct out *o, const struct spec *sp, uint64_t v, bool neg, unsigned int base,
		    bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24]; /* 2^64 - 1 has 20 decimal digits */
	int n = 0, plen = 0, zeros, pad;

	/* "%.0d" of 0 prints no digits at all. */
	while (v || (n == 0 && sp->prec != 0)) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (neg)
		prefix = "-";
	else if (!prefix && sp->plus)
		prefix = "+";
	else if (!prefix && sp->space)
		prefix = " ";
	if (prefix) {
		while (prefix[plen])
			plen++;
	}

	zeros = sp->prec > n ? sp->prec - n : 0;
	pad = sp->width - plen - zeros - n;
	if (pad > 0 && sp->zero && !sp->left && sp->prec < 0) {
		zeros += pad;
		pad = 0;
	}

	if (!sp->left)
		put_n(o, ' ', pad);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	put_n(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		put_n(o, ' ', pad);
}

/*
 * The digits at *fmt, if any (0 if none), moving *fmt past them.  Beyond
 * INT_MAX the int return would overflow anyway, so saturate there.
 */
static int parse_decimal(const char **fmt)
{
	int v = 0;

	for (; **fmt >= '0' && **fmt <= '9'; (*fmt)++) {
		int d = **fmt - '0';

		v = v > (INT_MAX - d) / 10 ? INT_MAX : v * 10 + d;
	}
	return v;
}

/* Length modifiers, in the order of the C standard's table. */
enum len { LEN_HH, LEN_H, LEN_NONE, LEN_L, LEN_LL, LEN_Z };

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size, .len = 0 };

	while (*fmt) {
		const char *start = fmt;
		struct spec sp = { .prec = -1 };
		enum len len = LEN_NONE;
		uint64_t u;
		int64_t d;
		bool neg = false;

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;

		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '+')
				sp.plus = true;
			else if (*fmt == ' ')
				sp.space = true;
			else if (*fmt == '#')
				sp.alt = true;
			else
				break;
		}

		if (*fmt == '*') {
			int w = va_arg(ap, int);

			fmt++;
			/* A negative '*' width is the '-' flag and its magnitude. */
			if (w < 0) {
				sp.left = true;
				w = w == INT_MIN ? INT_MAX : -w;
			}
			sp.width = w;
		} else {
			sp.width = parse_decimal(&fmt);
		}

		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				fmt++;
				/* A negative '*' precision means none was given. */
				sp.prec = va_arg(ap, int);
				if (sp.prec < 0)
					sp.prec = -1;
			} else {
				/* "." alone is a precision of zero. */
				sp.prec = parse_decimal(&fmt);
			}
		}

		if (*fmt == 'h') {
			fmt++;
			len = LEN_H;
			if (*fmt == 'h') {
				fmt++;
				len = LEN_HH;
			}
		} else if (*fmt == 'l') {
			fmt++;
			len = LEN_L;
			if (*fmt == 'l') {
				fmt++;
				len = LEN_LL;
			}
		} else if (*fmt == 'z') {
			fmt++;
			len = LEN_Z;
		}

		switch (*fmt) {
		case 'd':
		case 'i':
			/* Narrow types arrive promoted to int and are converted back, as C does. */
			switch (len) {
			case LEN_HH:
				d = (signed char)va_arg(ap, int);
				break;
			case LEN_H:
				d = (short)va_arg(ap, int);
				break;
			case LEN_L:
				d = va_arg(ap, long);
				break;
			case LEN_LL:
				d = va_arg(ap, long long);
				break;
			case LEN_Z:
				/* The signed type of size_t's width, like ssize_t. */
				d = va_arg(ap, ptrdiff_t);
				break;
			default:
				d = va_arg(ap, int);
				break;
			}
			/* Negate in unsigned arithmetic, so INT64_MIN works too. */
			neg = d < 0;
			u = neg ? -(uint64_t)d : (uint64_t)d;
			put_int(&o, &sp, u, neg, 10, false, NULL);
			break;
		case 'u':
		case 'o':
		case 'x':
		case 'X':
			switch (len) {
			case LEN_HH:
				u = (unsigned char)va_arg(ap, unsigned int);
				break;
			case LEN_H:
				u = (unsigned short)va_arg(ap, unsigned int);
				break;
			case LEN_L:
				u = va_arg(ap, unsigned long);
				break;
			case LEN_LL:
				u = va_arg(ap, unsigned long long);
				break;
			case LEN_Z:
				u = va_arg(ap, size_t);
				break;
			default:
				u = va_arg(ap, unsigned int);
				break;
			}
			/* '+' and ' ' are for signed conversions only. */
			sp.plus = sp.space = false;
			if (*fmt == 'u') {
				put_int(&o, &sp, u, false, 10, false, NULL);
			} else if (*fmt == 'o') {
				/* '#' makes the first digit a 0, as C says. */
				put_int(&o, &sp, u, false, 8, false, sp.alt && u ? "0" : NULL);
			} else {
				/* '#' adds 0x only to a non-zero value, as C says. */
				const char *prefix = NULL;

				if (sp.alt && u)
					prefix = *fmt == 'x' ? "0x" : "0X";
				put_int(&o, &sp, u, false, 16, *fmt == 'X', prefix);
			}
			break;
		case 'p': {
			/*
			 * As glibc prints it, so host and guest logs read alike:
			 * like %#lx, but "(nil)" for NULL.
			 */
			void *p = va_arg(ap, void *);

			if (p) {
				put_int(&o, &sp, (uintptr_t)p, false, 16, false, "0x");
			} else {
				sp.prec = -1;
				put_text(&o, &sp, "(nil)", 5);
			}
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			put_text(&o, &sp, &c, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n = 0;

			if (!s)
				s = "(null)";
			/* With a precision, s need not be NUL-terminated: look no further. */
			while ((sp.prec < 0 || n < sp.prec) && s[n] && n < INT_MAX)
				n++;
			put_text(&o, &sp, s, n);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:
			/* Not ours (or the format ended): show it as written. */
			while (start < fmt)
				put(&o, *start++);
			continue;
		}
		fmt++;
	}

	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	/* C would fail with EOVERFLOW here; there is no errno, so saturate. */
	return o.len > INT_MAX ? INT_MAX : (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
