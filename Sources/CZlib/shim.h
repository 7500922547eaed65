// zlib: gzip streams for the IDX data sets and deflate/crc32 for PNG figures.
#include <zlib.h>
