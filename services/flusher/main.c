/*
 * zerofs-flusher: the flusher service as its own process.
 */
#include "flusher/flusher.h"

int main(int argc, char **argv)
{
	return service_main("zerofs-flusher", argc, argv, flusher_service_start,
			    flusher_service_stop);
}
