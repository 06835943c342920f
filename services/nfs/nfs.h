/*
 * The nfs service: NFSv3 and MOUNT v3 over ONC RPC on TCP.
 * See service.h for how services start and stop.
 */
#ifndef ZEROFS_NFS_H
#define ZEROFS_NFS_H

#include "service.h"

/* service_start_fn and service_stop_fn for this service. */
int nfs_service_start(const struct config *cfg,
		      const struct service_endpoints *ep, void **handle);
int nfs_service_stop(void *handle);

#endif
