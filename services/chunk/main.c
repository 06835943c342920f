/*
 * zerofs-chunk: the chunk service as its own process.
 */
#include "chunk/chunk.h"

int main(int argc, char **argv)
{
	return service_main("zerofs-chunk", argc, argv, chunk_service_start,
			    chunk_service_stop);
}
