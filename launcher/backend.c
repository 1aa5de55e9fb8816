// SPDX-License-Identifier: GPL-2.0
/* backend.c: choosing where the guest's CPU runs (--backend). */
#include "backend.h"
#include "log.h"

const struct backend *backend_choose(const struct options *o)
{
	const char *why;

	switch (o->backend) {
	case BACKEND_KVM:
		why = kvm_backend.probe(o);
		if (why)
			die("--backend=kvm: %s", why);
		verbose("backend kvm (asked for)");
		return &kvm_backend;
	case BACKEND_PROCESS:
		why = process_backend.probe(o);
		if (why)
			die("--backend=process: %s", why);
		verbose("backend process (asked for)");
		return &process_backend;
	case BACKEND_AUTO:
	default:
		break;
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
