/*
 * The chunk service: file data in fixed-size chunks, read and written through
 * frames. See service.h for how services start and stop.
 */
#ifndef ZEROFS_CHUNK_H
#define ZEROFS_CHUNK_H

#include "service.h"

/* service_start_fn and service_stop_fn for this service. */
int chunk_service_start(const struct config *cfg,
			const struct service_endpoints *ep, void **handle);
int chunk_service_stop(void *handle);

#endif
