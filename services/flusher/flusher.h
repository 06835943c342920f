/*
 * The flusher service: packs frames into segment objects, uploads them, answers
 * barriers. See service.h for how services start and stop.
 */
#ifndef ZEROFS_FLUSHER_H
#define ZEROFS_FLUSHER_H

#include "service.h"

/* service_start_fn and service_stop_fn for this service. */
int flusher_service_start(const struct config *cfg,
			  const struct service_endpoints *ep, void **handle);
int flusher_service_stop(void *handle);

#endif
