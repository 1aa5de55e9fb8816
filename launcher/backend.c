// SPDX-License-Identifier: GPL-2.0
/* backend.c: choosing where the guest's CPU runs (--backend). */
#include "backend.h"
#include "log.h"

static const struct backend *const backends[] = {
	[BACKEND_KVM] = &kvm_backend,
	[BACKEND_PROCESS] = &process_backend,
};

const struct backend *backend_choose(const struct options *o)
{
	const struct backend *b;
	const char *why;

	if (o->backend != BACKEND_AUTO) {
		b = backends[o->backend];
		why = b->probe(o);
		if (why)
			die("--backend=%s: %s", b->name, why);
		verbose("backend %s (asked for)", b->name);
		return b;
	}
	why = kvm_backend.probe(o);
	if (!why) {
		verbose("backend kvm (%s works)", o->kvm_path);
		return &kvm_backend;
	}
	verbose("backend process: no KVM here (%s)", why);
	why = process_backend.probe(o);
	if (why)
		die("no backend can run here: no KVM, and %s", why);
	return &process_backend;
}
