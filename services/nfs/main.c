/*
 * zerofs-nfs: the nfs service as its own process.
 */
#include "nfs/nfs.h"

int main(int argc, char **argv)
{
	return service_main("zerofs-nfs", argc, argv, nfs_service_start,
			    nfs_service_stop);
}
