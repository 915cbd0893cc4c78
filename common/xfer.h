/* xfer: what every transfer to or from a backup target shares (libcurl),
 * whatever its kind (offsite.h's SFTP, s3.h's S3). */
#ifndef KC_XFER_H
#define KC_XFER_H

#include <curl/curl.h>
#include <stdint.h>

/* On c: 30 s to connect; given up when stalled for a minute (the next push
 * goes on from there); at most rate bytes a second each way (0: no limit,
 * [backup] rate_limit); ended by SIGINT or SIGTERM (interrupt.h: the
 * transfer fails with CURLE_ABORTED_BY_CALLBACK). */
void xfer_setup(CURL *c, uint64_t rate);

#endif
