/* lib/ww_decode.h - streaming Content-Encoding decoder (gzip, deflate, br, zstd, and chains of
 * them across repeated header fields) with bomb limits, so the scanner sees the file the browser
 * will see. */
#ifndef WW_DECODE_H
#define WW_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum ww_encoding {
    WW_ENC_IDENTITY = 0, /* no Content-Encoding, or "identity" */
    WW_ENC_GZIP,         /* "gzip", "x-gzip" (concatenated members too) */
    WW_ENC_DEFLATE,      /* "deflate": zlib-wrapped, or raw deflate as some servers send */
    WW_ENC_BR,           /* "br": brotli (libbrotlidec; no large-window streams) */
    WW_ENC_ZSTD,         /* "zstd": Zstandard (libzstd; frames needing over 8 MiB of window are
                            refused as too big, as browsers do) */
    WW_ENC_UNSUPPORTED   /* anything else ("compress", "x-foo", several codings in one token) */
};

/* The coding named by one Content-Encoding token (NULL = identity). Case-insensitive,
 * surrounding spaces ignored. */
enum ww_encoding ww_decode_parse(const char *content_encoding);
const char *ww_encoding_name(enum ww_encoding enc);

/* Most codings a chain may stack; a response with more is undecodable. */
#define WW_DECODE_MAX_CODINGS 4

/* The codings of one response, in the order they were applied (RFC 9110 8.4: every
 * Content-Encoding field line, each a comma-separated list, is one list; "identity" and empty
 * elements count for nothing). Caller's storage: ww_encodings_init, then add each field. */
struct ww_encodings {
    enum ww_encoding enc[WW_DECODE_MAX_CODINGS];
    size_t n;
    int undecodable; /* a coding that cannot be decoded, or more than WW_DECODE_MAX_CODINGS */
    char bad[64];    /* the first such coding as sent (cut to fit, made printable), for logs */
};

void ww_encodings_init(struct ww_encodings *e);
/* Adds the codings of one field value of <len> bytes (a comma-separated list). */
void ww_encodings_add_value(struct ww_encodings *e, const char *value, size_t len);
/* Adds the codings of one header field line "Name: value" when its name is Content-Encoding
 * (case-insensitive); any other field is ignored. The line ends at NUL, or at a CR or LF that
 * does not start a fold (ww_header_value_len). */
void ww_encodings_add_line(struct ww_encodings *e, const char *line);
/* The length of the field value <v> up to NUL or the end of its line: a CR LF or LF followed by
 * a space or tab is an obsolete line fold (RFC 9112 5.2), part of the value, where it counts as
 * whitespace, and so does a lone CR. c-icap keeps a folded field as one entry with the fold inside,
 * so "Content-Encoding: gzip,<CRLF> br" must not end at "gzip,": the br would pass undecoded and
 * unscanned. */
size_t ww_header_value_len(const char *v);
/* The value of the header field line <line> when its name is <name> (case-insensitive), past
 * the colon and the spaces and tabs after it; NULL for any other field. Spaces or tabs between the
 * name and the colon are skipped: "Content-Encoding : gzip" is not valid HTTP, but a client that
 * decodes it anyway must not get it unscanned. */
const char *ww_header_field_value(const char *line, const char *name);

struct ww_decode; /* one body; one thread at a time */

/* Receives each decoded piece, in order; a non-zero return stops decoding (ww_decode_feed then
 * returns WW_OK and decodes nothing more). */
typedef int (*ww_decode_sink)(const void *data, size_t len, void *arg);

/* A decoder for <enc> (GZIP or DEFLATE) that refuses to expand past <max_expanded> bytes or past
 * <max_ratio> times the compressed size (the ratio is enforced once 1 MiB came out, so small
 * highly compressible pages pass). NULL if out of memory or <enc> is not decodable. */
struct ww_decode *ww_decode_create(enum ww_encoding enc, int64_t max_expanded, int max_ratio);
/* A decoder that undoes every coding of <e>, the last applied first. The limits hold at every
 * stage, and the ratio is counted against the bytes received (the outermost input). NULL if out
 * of memory, or <e> has no coding to undo or is undecodable. */
struct ww_decode *ww_decode_create_chain(const struct ww_encodings *e, int64_t max_expanded,
                                         int max_ratio);
void ww_decode_free(struct ww_decode *d); /* NULL is a no-op; frees a whole chain */

/* Decodes <len> compressed bytes into <sink>. WW_OK; WW_ETOOBIG when a limit was passed (a
 * decompression bomb: nothing more is decoded); WW_EPROTO when the data is not valid for the
 * coding (nothing more is decoded); WW_ENOMEM. Memory use is bounded: one 64 KiB window per
 * stage, plus the coding's own window (gzip/deflate 32 KiB, br at most 16 MiB, zstd 8 MiB). */
int ww_decode_feed(struct ww_decode *d, const void *in, size_t len, ww_decode_sink sink, void *arg);
/* At the end of the body: WW_OK if the compressed stream ended cleanly, WW_EPROTO if it was cut
 * short (browsers still show such bodies: the caller decides). */
int ww_decode_finish(struct ww_decode *d);
int64_t ww_decode_bytes_in(const struct ww_decode *d);  /* received by the outermost stage */
int64_t ww_decode_bytes_out(const struct ww_decode *d); /* handed to the sink */

#endif
