/*
 * zerofs-metadata: the metadata service as its own process.
 */
#include "metadata/metadata.h"

int main(int argc, char **argv)
{
	return service_main("zerofs-metadata", argc, argv,
			    metadata_service_start, metadata_service_stop);
}
