/* lib/ww_decode.h - streaming Content-Encoding decoder (gzip, deflate) with bomb limits, so the
 * scanner sees the file the browser will see. */
#ifndef WW_DECODE_H
#define WW_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum ww_encoding {
    WW_ENC_IDENTITY = 0, /* no Content-Encoding, or "identity" */
    WW_ENC_GZIP,         /* "gzip", "x-gzip" (concatenated members too) */
    WW_ENC_DEFLATE,      /* "deflate": zlib-wrapped, or raw deflate as some servers send */
    WW_ENC_UNSUPPORTED   /* anything else ("br", "compress", several codings) */
};

/* The coding named by a Content-Encoding header value (NULL = identity). Case-insensitive,
 * surrounding spaces ignored. */
enum ww_encoding ww_decode_parse(const char *content_encoding);
const char *ww_encoding_name(enum ww_encoding enc);

struct ww_decode; /* one body; one thread at a time */

/* Receives each decoded piece, in order; a non-zero return stops decoding (ww_decode_feed then
 * returns WW_OK and decodes nothing more). */
typedef int (*ww_decode_sink)(const void *data, size_t len, void *arg);

/* A decoder for <enc> (GZIP or DEFLATE) that refuses to expand past <max_expanded> bytes or past
 * <max_ratio> times the compressed size (the ratio is enforced once 1 MiB came out, so small
 * highly compressible pages pass). NULL if out of memory or <enc> is not decodable. */
struct ww_decode *ww_decode_create(enum ww_encoding enc, int64_t max_expanded, int max_ratio);
void ww_decode_free(struct ww_decode *d); /* NULL is a no-op */

/* Decodes <len> compressed bytes into <sink>. WW_OK; WW_ETOOBIG when a limit was passed (a
 * decompression bomb: nothing more is decoded); WW_EPROTO when the data is not valid for the
 * coding (nothing more is decoded); WW_ENOMEM. Memory use is bounded (one 64 KiB window). */
int ww_decode_feed(struct ww_decode *d, const void *in, size_t len, ww_decode_sink sink, void *arg);
/* At the end of the body: WW_OK if the compressed stream ended cleanly, WW_EPROTO if it was cut
 * short (browsers still show such bodies: the caller decides). */
int ww_decode_finish(struct ww_decode *d);
int64_t ww_decode_bytes_in(const struct ww_decode *d);
int64_t ww_decode_bytes_out(const struct ww_decode *d);

#endif
