/* lib/ww_statusview.c - the status model rendered as JSON and as text (lib/ww_statusview.h). */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "ww_common.h"
#include "ww_daemon.h"
#include "ww_log.h"
#include "ww_statusview.h"

const char *ww_statusview_method(enum ww_scan_method m)
{
    return m == WW_SCAN_SMART ? "smart" : "conventional";
}

json_t *ww_statusview_time(time_t t)
{
    char buf[32];

    return t > 0 ? json_string(ww_status_iso(t, buf, sizeof(buf))) : json_null();
}

json_t *ww_statusview_json(const struct ww_status *s, const struct ww_conf *conf)
{
    json_t *root = json_object(), *comps = json_object(), *jobs = json_object();

    json_object_set_new(root, "database", json_string(conf->state.database));
    json_object_set_new(root, "config", json_string(conf->path));
    json_object_set_new(root, "appliance_id", json_string(s->appliance));
    json_object_set_new(root, "scan_method",
                        json_pack("{s:s, s:s, s:s, s:o}", "method",
                                  ww_statusview_method(s->scan.method), "reason", s->scan.reason,
                                  "changed_by", s->scan.changed_by, "changed_at",
                                  ww_statusview_time(s->scan.changed_at)));
    for (int i = 0; ww_status_components[i] != NULL; i++)
        json_object_set_new(comps, ww_status_components[i],
                            s->have_comp[i] ? json_pack("{s:s, s:o}", "version", s->comp[i].version,
                                                        "installed_at",
                                                        ww_statusview_time(s->comp[i].installed_at))
                                            : json_null());
    json_object_set_new(root, "components", comps);
    json_object_set_new(root, "feedback",
                        json_pack("{s:I, s:I}", "queued", (json_int_t)s->queued, "dropped",
                                  (json_int_t)s->dropped));
    json_object_set_new(root, "license",
                        json_pack("{s:s?, s:s?, s:s?, s:s?, s:o, s:o}", "activation_code",
                                  s->lic.activation_code[0] ? s->masked : NULL, "status",
                                  s->lic.status[0] ? s->lic.status : NULL, "edition",
                                  s->lic.edition[0] ? s->lic.edition : NULL, "expires",
                                  s->lic.expires[0] ? s->lic.expires : NULL, "days_left",
                                  s->have_days ? json_integer(s->days) : json_null(), "checked_at",
                                  ww_statusview_time(s->lic.checked_at)));
    json_object_set_new(json_object_get(root, "license"), "phase",
                        json_string(ww_license_phase_name(s->lstate.phase)));
    json_object_set_new(json_object_get(root, "license"), "grace_days_left",
                        s->have_days ? json_integer(s->lstate.grace_days_left) : json_null());
    json_object_set_new(json_object_get(root, "license"), "updates_allowed",
                        json_boolean(s->updates_allowed));
    for (int i = 0; ww_daemon_job_names[i] != NULL; i++) {
        const struct ww_sched_status *j = &s->jobs[i];
        json_object_set_new(jobs, ww_daemon_job_names[i],
                            json_pack("{s:o, s:o, s:o, s:s?}", "last_run",
                                      ww_statusview_time(j->last_run), "next_run",
                                      ww_statusview_time(j->next_run), "ok",
                                      j->ok < 0 ? json_null() : json_boolean(j->ok), "result",
                                      j->result[0] ? j->result : NULL));
    }
    json_object_set_new(root, "jobs", jobs);
    json_object_set_new(root, "healthy", json_boolean(s->nproblems == 0));
    json_t *probs = json_array(), *servers = json_object(), *recent = json_array();
    for (int i = 0; i < s->nproblems; i++)
        json_array_append_new(probs, json_string(s->problems[i]));
    json_object_set_new(root, "problems", probs);
    for (int i = 0; i < WW_STATUS_SERVERS; i++)
        json_object_set_new(servers, s->servers[i].name,
                            json_pack("{s:s, s:o, s:s}", "state", s->servers[i].state, "checked",
                                      ww_statusview_time(s->servers[i].checked), "detail",
                                      s->servers[i].detail));
    json_object_set_new(root, "servers", servers);
    for (int i = 0; i < s->nrecent; i++)
        json_array_append_new(recent, json_pack("{s:o, s:s, s:s, s:s}", "at",
                                                ww_statusview_time(s->recent[i].at), "level",
                                                s->recent[i].level, "source", s->recent[i].source,
                                                "message", s->recent[i].message));
    json_object_set_new(root, "recent_problems", recent);
    json_object_set_new(root, "daemon",
                        json_pack("{s:b, s:o}", "running", s->daemon_pid > 0, "pid",
                                  s->daemon_pid > 0 ? json_integer(s->daemon_pid) : json_null()));
    return root;
}

int ww_statusview_text(const struct ww_status *s, const struct ww_conf *conf, time_t now, FILE *fp)
{
    char t1[32], t2[32];
    const char *lic_status = s->lic.status[0] ? s->lic.status : "none";
    char age[32];

    if (s->nproblems == 0) {
        fprintf(fp, "Health:        ok\n");
    } else {
        fprintf(fp, "Health:        ATTENTION, %d problem%s\n", s->nproblems,
                s->nproblems == 1 ? "" : "s");
        for (int i = 0; i < s->nproblems; i++)
            fprintf(fp, "  - %s\n", s->problems[i]);
    }
    fprintf(fp, "Scan method:   %s\n", ww_statusview_method(s->scan.method));
    fprintf(fp, "  why:         %s\n", s->scan.reason[0] ? s->scan.reason : "-");
    fprintf(fp, "  changed by:  %s at %s\n", s->scan.changed_by[0] ? s->scan.changed_by : "-",
            ww_status_iso(s->scan.changed_at, t1, sizeof(t1)));
    fprintf(fp, "Servers:       %-15s %-20s  %s\n", "state", "as of", "detail");
    for (int i = 0; i < WW_STATUS_SERVERS; i++) {
        const struct ww_status_server *sv = &s->servers[i];
        fprintf(fp, "  %-12s %-15s %-20s  %s\n", sv->name, sv->state,
                ww_status_iso(sv->checked, t1, sizeof(t1)), sv->detail[0] ? sv->detail : "-");
    }
    fprintf(fp, "Components:\n");
    for (int i = 0; ww_status_components[i] != NULL; i++) {
        if (s->have_comp[i])
            fprintf(fp, "  %-12s %s (installed %s, %s ago)\n", ww_status_components[i],
                    s->comp[i].version, ww_status_iso(s->comp[i].installed_at, t1, sizeof(t1)),
                    ww_status_age(s->comp[i].installed_at, now, age, sizeof(age)));
        else
            fprintf(fp, "  %-12s none\n", ww_status_components[i]);
    }
    fprintf(fp, "ClamAV:        %s\n",
            s->clam_engine[0] ? s->clam_engine : "- (webwarden_scan not started)");
    for (size_t i = 0; i < s->clam.ndbs && i < WW_CLAMAV_MAX_DBS; i++)
        fprintf(fp, "  %-12s version %u, %u signatures, built %s (%s ago)\n", s->clam.dbs[i].name,
                s->clam.dbs[i].version, s->clam.dbs[i].sigs,
                ww_status_iso(s->clam.dbs[i].built, t1, sizeof(t1)),
                ww_status_age(s->clam.dbs[i].built, now, age, sizeof(age)));
    fprintf(fp, "Feedback:      %lld queued, %lld dropped\n", (long long)s->queued,
            (long long)s->dropped);
    if (s->lic.edition[0] != '\0')
        fprintf(fp, "License:       %s (%s)\n", lic_status, s->lic.edition);
    else
        fprintf(fp, "License:       %s\n", lic_status);
    if (s->lic.activation_code[0] != '\0')
        fprintf(fp, "  code:        %s\n", s->masked);
    if (s->lic.expires[0] != '\0') {
        if (s->have_days)
            fprintf(fp, "  expires:     %s (%d days left)\n", s->lic.expires, s->days);
        else
            fprintf(fp, "  expires:     %s\n", s->lic.expires);
    }
    if (s->lstate.phase == WW_LICENSE_GRACE)
        fprintf(fp, "  grace:       %s\n", s->lic_desc);
    if (!s->updates_allowed)
        fprintf(fp, "  updates:     %s\n", s->updates_why);
    fprintf(fp, "Jobs:          %-20s  %-20s  %-6s %s\n", "last run", "next run", "ok", "result");
    for (int i = 0; ww_daemon_job_names[i] != NULL; i++) {
        const struct ww_sched_status *j = &s->jobs[i];
        fprintf(fp, "  %-12s %-20s  %-20s  %-6s %s\n", ww_daemon_job_names[i],
                ww_status_iso(j->last_run, t1, sizeof(t1)),
                ww_status_iso(j->next_run, t2, sizeof(t2)),
                j->ok < 0 ? "-"
                : j->ok   ? "yes"
                          : "no",
                j->result[0] ? j->result : "-");
    }
    if (s->daemon_pid > 0)
        fprintf(fp, "Daemon:        running (pid %ld)\n", s->daemon_pid);
    else
        fprintf(fp, "Daemon:        not running\n");
    if (s->nrecent > 0) {
        fprintf(fp, "Recent warnings (newest first; all: webwardenctl events):\n");
        for (int i = 0; i < s->nrecent; i++)
            fprintf(fp, "  %s %-7s %-8s %s\n", ww_status_iso(s->recent[i].at, t1, sizeof(t1)),
                    s->recent[i].level, s->recent[i].source, s->recent[i].message);
    }
    fprintf(fp, "Appliance id:  %s\n", s->appliance);
    fprintf(fp, "Database:      %s\n", conf->state.database);
    return ferror(fp) ? WW_EIO : WW_OK;
}

json_t *ww_statusview_license_json(const struct ww_license *lic, int grace_days, time_t now)
{
    struct ww_license_state ls;
    char masked[80], why[512];
    int allowed;

    ww_log_mask_secret(lic->activation_code, masked, sizeof(masked));
    ww_license_state(lic, now, grace_days, &ls);
    allowed = ww_license_updates_allowed(lic, now, grace_days, why, sizeof(why));
    return json_pack(
        "{s:s?, s:s?, s:s, s:s?, s:s?, s:s?, s:i, s:o, s:o, s:b, s:s, s:o}", "activation_code",
        lic->activation_code[0] ? masked : NULL, "status", lic->status[0] ? lic->status : NULL,
        "phase", ww_license_phase_name(ls.phase), "product", lic->product[0] ? lic->product : NULL,
        "edition", lic->edition[0] ? lic->edition : NULL, "expires",
        lic->expires[0] ? lic->expires : NULL, "seats", lic->seats, "days_left",
        ls.phase >= WW_LICENSE_ACTIVE ? json_integer(ls.days_left) : json_null(), "grace_days_left",
        ls.phase >= WW_LICENSE_ACTIVE ? json_integer(ls.grace_days_left) : json_null(),
        "updates_allowed", allowed, "updates", why, "checked_at",
        ww_statusview_time(lic->checked_at));
}

int ww_statusview_license_text(const struct ww_license *lic, int grace_days, time_t now, FILE *fp)
{
    char masked[80], desc[256], why[512], t1[32];
    int allowed;

    ww_log_mask_secret(lic->activation_code, masked, sizeof(masked));
    ww_license_describe(lic, now, grace_days, desc, sizeof(desc));
    allowed = ww_license_updates_allowed(lic, now, grace_days, why, sizeof(why));
    fprintf(fp, "License:      %s\n", desc);
    if (lic->activation_code[0] != '\0') {
        fprintf(fp, "  code:       %s\n", masked);
        fprintf(fp, "  status:     %s (server)\n", lic->status[0] ? lic->status : "-");
        fprintf(fp, "  product:    %s %s\n", lic->product[0] ? lic->product : "-", lic->edition);
        fprintf(fp, "  seats:      %d\n", lic->seats);
        fprintf(fp, "  expires:    %s\n", lic->expires[0] ? lic->expires : "-");
        fprintf(fp, "  updates:    %s\n", allowed ? "allowed" : why);
        fprintf(fp, "  checked:    %s\n", ww_status_iso(lic->checked_at, t1, sizeof(t1)));
    }
    return ferror(fp) ? WW_EIO : WW_OK;
}

json_t *ww_statusview_feedback_json(const struct ww_statusview_feedback *f)
{
    return json_pack("{s:s?, s:I, s:I, s:o, s:o, s:o, s:s?}", "server",
                     f->server[0] ? f->server : NULL, "queued", (json_int_t)f->queued, "dropped",
                     (json_int_t)f->dropped, "unconfirmed",
                     f->first > 0 ? json_pack("{s:I, s:I}", "first", (json_int_t)f->first, "last",
                                              (json_int_t)f->last)
                                  : json_null(),
                     "last_run", ww_statusview_time(f->job.last_run), "ok",
                     f->job.ok < 0 ? json_null() : json_boolean(f->job.ok), "result",
                     f->job.result[0] ? f->job.result : NULL);
}

int ww_statusview_feedback_text(const struct ww_statusview_feedback *f, FILE *fp)
{
    char t1[32];

    fprintf(fp, "Server:       %s\n",
            f->server[0] ? f->server : "(not configured: feedback.server)");
    fprintf(fp, "Queued:       %lld events\n", (long long)f->queued);
    fprintf(fp, "Dropped:      %lld (queue or buffer full, oldest first)\n", (long long)f->dropped);
    if (f->first > 0)
        fprintf(fp,
                "Unconfirmed:  rows %lld-%lld sent, answer not received: resent under the same "
                "batch id\n",
                (long long)f->first, (long long)f->last);
    else
        fprintf(fp, "Unconfirmed:  none\n");
    fprintf(fp, "Last run:     %s %s %s\n", ww_status_iso(f->job.last_run, t1, sizeof(t1)),
            f->job.ok < 0 ? ""
            : f->job.ok   ? "ok"
                          : "failed:",
            f->job.result[0] ? f->job.result : "");
    return ferror(fp) ? WW_EIO : WW_OK;
}
