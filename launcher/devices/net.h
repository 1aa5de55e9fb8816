/* SPDX-License-Identifier: GPL-2.0 */
/* net.h: the tap-backed network device (--tunnet, --tap). */
#ifndef LAUNCHER_DEVICES_NET_H
#define LAUNCHER_DEVICES_NET_H

#include "options.h"

/* Open (or create and configure) the tap and add the device: dies on failure. */
void net_add(const struct net_opt *o);

#endif /* LAUNCHER_DEVICES_NET_H */
