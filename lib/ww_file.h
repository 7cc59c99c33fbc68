/* lib/ww_file.h - the file-system steps several parts need, written once: a folder with its
 * parents (mkdir -p), a file replaced whole or not at all (write a temporary, fsync, rename,
 * fsync the folder), the SHA-256 of a file. Thread-safe; they block on the disk. */
#ifndef WW_FILE_H
#define WW_FILE_H

#include <stddef.h>

/* Creates folder <path> and its missing parents (mode 0755); existing ones are fine. WW_OK, or
 * WW_EINVAL (empty or too long) / WW_EIO with errno set and "cannot create folder X: why" in
 * <err> (NULL: no text). */
int ww_file_mkdir_p(const char *path, char *err, size_t errlen);

/* fsync() of file or folder <path> (a folder after a rename in it, so the new name survives a
 * power loss). 0, or -1 with errno set. */
int ww_file_fsync_path(const char *path, int is_dir);

/* <path> replaced by <len> bytes of <data> (mode <mode>): written to "<path>.tmp.<pid>", fsync'd,
 * renamed over <path>, the folder fsync'd. Readers see the old file or the new one, never a part.
 * WW_OK, or WW_EIO / WW_EINVAL with "<file>: why" in <err> and no temporary left. */
int ww_file_write_atomic(const char *path, const void *data, size_t len, int mode, char *err,
                         size_t errlen);

/* Finishes a file written through <fd> under the temporary name <tmp>: fsync, close, rename to
 * <path>, fsync of its folder. <fd> is closed in every case; on failure <tmp> is removed.
 * WW_OK, or WW_EIO with errno set and "<file>: why" in <err>. */
int ww_file_commit(int fd, const char *tmp, const char *path, char *err, size_t errlen);

/* SHA-256 of the file at <path>, as 64 lower-case hex digits and a NUL into <hex>. WW_OK, or
 * WW_EIO (cannot open or read) / WW_ENOMEM. */
int ww_file_sha256(const char *path, char hex[65]);

#endif
