/* SPDX-License-Identifier: GPL-2.0 */
/*
 * draft3_blk.h: the block protocol over draft-III queues (shared/seeds/001).
 *
 * A request is two buffers.  The *out* buffer starts with struct
 * d3_blk_outhdr; for a write the data to write follows.  The *in* buffer
 * starts with the one-byte status; for a read the data read follows.  The
 * header's `id` names the in buffer (its head descriptor in the in queue),
 * which the guest adds before the out buffer.  The request is complete
 * when both buffers have come back used.
 */
#ifndef LGUEST_DRAFT3_BLK_H
#define LGUEST_DRAFT3_BLK_H

#include <stdint.h>

#define D3_BLK_T_READ	  0
#define D3_BLK_T_WRITE	  1
#define D3_BLK_T_SCSI_CMD 3	      /* accepted from the 2007 protocol, answered UNSUPP */
#define D3_BLK_T_FLUSH	  4	      /* our addition, numbered as virtio 1.x's FLUSH */
#define D3_BLK_T_BARRIER  0x80000000u /* flag: durable before completion */

struct d3_blk_outhdr {
	uint32_t type; /* D3_BLK_T_* */
	uint32_t ioprio;
	uint64_t sector; /* 512-byte units */
	uint64_t id;	 /* head of the in buffer that receives status (+ data) */
};

#define D3_BLK_S_OK	0
#define D3_BLK_S_IOERR	1
#define D3_BLK_S_UNSUPP 2

struct d3_blk_inhdr {
	uint8_t status;
};

#endif /* LGUEST_DRAFT3_BLK_H */
