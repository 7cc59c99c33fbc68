/* lib/ww_statedir.h - the state folder made ready for the processes that share it: c-icap's
 * children (Debian runs them as user and group c-icap), webwardend (its own user) and the admin.
 *
 * c-icap keeps only the one group named by its Group directive (setgroups(1, &gid) in
 * os/unix/proc_utils.c), so adding its user to another group does not help: the files must
 * belong to that group. Called by `webwardenctl init`; not thread-safe (umask-free, but it
 * changes file modes in place). */
#ifndef WW_STATEDIR_H
#define WW_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

/* The group id of <group> (a name or a number). WW_OK, or WW_ENOTFOUND with the reason in <err>. */
int ww_statedir_group_id(const char *group, gid_t *gid, char *err, size_t errlen);

/* Gives group <gid> read and write on the database <db_path>'s folder (plus setgid, so files
 * created there later - SQLite's -wal and -shm, webwardend's lock - get the group too), and on
 * <db_path> and its -wal and -shm files (mode exactly 0660). Others keep what they had on the
 * folder and lose all access to the files. Changes only what differs, so a member of the group
 * that owns nothing may run it on a folder already shared.
 * A symbolic link, a non-regular file or a file with more than one hard link in the folder's
 * place of a database file is refused (WW_EINVAL): whoever can write the folder must not make
 * root change the group of another file. WW_OK, or WW_E* with "path: reason" in <err>. */
int ww_statedir_share(const char *db_path, gid_t gid, char *err, size_t errlen);

/* Creates <patterns_dir> (mode 0755, setgid kept from its parent) if it does not exist and,
 * when it holds no visible file, copies the regular files of <starter_dir> into it (mode 0644,
 * each written to a temporary name and renamed, so a reader never sees half a file).
 * A missing <starter_dir> copies nothing. *copied = the number of files copied.
 * WW_OK, or WW_EIO with "path: reason" in <err> (files already copied stay). */
int ww_statedir_seed_patterns(const char *patterns_dir, const char *starter_dir, int *copied,
                              char *err, size_t errlen);

#endif
