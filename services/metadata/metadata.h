/*
 * The metadata service: the namespace and extent maps; persisted in the object
 * store. See service.h for how services start and stop.
 */
#ifndef ZEROFS_METADATA_H
#define ZEROFS_METADATA_H

#include "service.h"

/* service_start_fn and service_stop_fn for this service. */
int metadata_service_start(const struct config *cfg,
			   const struct service_endpoints *ep, void **handle);
int metadata_service_stop(void *handle);

#endif
