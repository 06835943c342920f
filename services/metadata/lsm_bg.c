/*
 * The background: one thread flushes frozen memtables to level 0, oldest
 * first; compaction_jobs threads run what the picker chooses; one thread
 * collects garbage now and then.  Each loops until the engine stops;
 * a failed flush or compaction is logged and tried again after a pause,
 * and nothing it did half is referenced by a manifest.
 */
#include "lsm_int.h"

#include "failpoint.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LSM_GC_EVERY_MS 60000

void lsm_bg_kick(struct kv *kv)
{
	pthread_mutex_lock(&kv->bg_mu);
	pthread_cond_broadcast(&kv->bg_cv);
	pthread_mutex_unlock(&kv->bg_mu);
}

/* Waits on cv up to ms; bg_mu held. */
static void bg_wait(struct kv *kv, pthread_cond_t *cv, uint32_t ms)
{
	lsm_cond_wait_ms(cv, &kv->bg_mu, ms);
}

uint64_t lsm_file_id_alloc(struct kv *kv)
{
	uint64_t id;

	pthread_mutex_lock(&kv->bg_mu);
	if (kv->ninflight == sizeof(kv->inflight) / sizeof(kv->inflight[0])) {
		id = 0;
	} else {
		id = kv->next_file++;
		kv->inflight[kv->ninflight++] = id;
	}
	pthread_mutex_unlock(&kv->bg_mu);
	return id;
}

void lsm_file_id_skip(struct kv *kv, uint64_t n)
{
	pthread_mutex_lock(&kv->bg_mu);
	kv->next_file += n;
	pthread_mutex_unlock(&kv->bg_mu);
}

void lsm_inflight_done(struct kv *kv, const struct lsm_file *f, size_t n)
{
	pthread_mutex_lock(&kv->bg_mu);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < kv->ninflight; j++)
			if (kv->inflight[j] == f[i].id) {
				kv->inflight[j] = kv->inflight[--kv->ninflight];
				break;
			}
	pthread_mutex_unlock(&kv->bg_mu);
}

/* Makes the memtable the newest frozen one and m the memtable. */
static int freeze_edit(struct kv *kv, struct lsm_version *v, void *arg)
{
	if (v->nimm >= LSM_IMM_MAX)
		return -EAGAIN;
	memmove(v->imm + 1, v->imm, (size_t)v->nimm * sizeof(v->imm[0]));
	memmove(v->imm_top + 1, v->imm_top,
		(size_t)v->nimm * sizeof(v->imm_top[0]));
	v->imm[0] = v->mem;
	v->imm_top[0] = kv->last_seq;
	v->nimm++;
	v->mem = arg;
	return 0;
}

int lsm_freeze(struct kv *kv)
{
	struct lsm_mem *m;
	int rc;

	if (kv->last_seq <= kv->frozen_top)
		return 0;
	if (lsm_mem_new(&m) < 0)
		return -ENOMEM;
	rc = lsm_version_update(kv, freeze_edit, m);
	if (rc < 0) {
		lsm_mem_unref(m);
		return rc;
	}
	kv->frozen_top = kv->last_seq;
	kv->mem = m;
	lsm_bg_kick(kv);
	return 0;
}

static void stall_wake(struct kv *kv)
{
	pthread_mutex_lock(&kv->write_mu);
	pthread_cond_broadcast(&kv->stall_cv);
	pthread_mutex_unlock(&kv->write_mu);
	pthread_mutex_lock(&kv->sync_mu);
	pthread_cond_broadcast(&kv->sync_cv);
	pthread_mutex_unlock(&kv->sync_mu);
	pthread_mutex_lock(&kv->bg_mu);
	pthread_cond_broadcast(&kv->bg_cv);
	pthread_cond_broadcast(&kv->idle_cv);
	pthread_mutex_unlock(&kv->bg_mu);
}

/* Drops the oldest frozen memtable (arg) and takes the tables of the
 * newest manifest.  man_mu held. */
static int flush_edit(struct kv *kv, struct lsm_version *v, void *arg)
{
	int rc = lsm_version_set_files(kv, v, &kv->man);

	if (rc == 0 && v->nimm > 0 && v->imm[v->nimm - 1] == arg) {
		v->nimm--;
		lsm_mem_unref(arg);
	}
	return rc;
}

/* Makes the frozen memtable m a level-0 table named by a new manifest. */
static int flush_mem(struct kv *kv, struct lsm_mem *m, uint64_t top)
{
	struct lsm_file *files = NULL;
	struct lsm_edit_add add[1];
	struct lsm_edit e = { 0 };
	struct lsm_iter *it;
	size_t n = 0;
	int rc;

	it = lsm_mem_iter_new(m);
	if (it == NULL)
		return -ENOMEM;
	rc = lsm_write_tables(kv, it, 0, 0, "lsm.flush.sst", &files, &n);
	lsm_iter_free(it);
	if (rc < 0)
		return rc;
	if (n == 1) {
		add[0].level = 0;
		add[0].file = &files[0];
		e.add = add;
		e.nadd = 1;
	}
	pthread_mutex_lock(&kv->man_mu);
	/* Records replayed at open were durable already: only a running
	 * engine's records may point at data still on its way. */
	rc = kv->threads_started && kv->opt.before_upload != NULL
		 ? kv->opt.before_upload(kv->opt.before_upload_arg)
		 : 0;
	if (rc == 0)
		rc = lsm_manifest_commit(kv, &e, top);
	if (rc == 0) {
		FAILPOINT("lsm.flush.manifest");
		rc = lsm_version_update(kv, flush_edit, m);
	}
	pthread_mutex_unlock(&kv->man_mu);
	lsm_inflight_done(kv, files, n);
	for (size_t i = 0; i < n; i++)
		lsm_file_clear(&files[i]);
	free(files);
	return rc;
}

int lsm_flush_one(struct kv *kv)
{
	struct lsm_version *v = lsm_version_get(kv);
	struct lsm_mem *m = NULL;
	uint64_t top = 0;
	int rc = 0;

	if (v->nimm > 0) {
		m = v->imm[v->nimm - 1];
		top = v->imm_top[v->nimm - 1];
		lsm_mem_ref(m);
	}
	lsm_version_put(v);
	if (m == NULL)
		return 0;
	rc = flush_mem(kv, m, top);
	if (rc == 0) {
		log_info("metadata: flush: memtable of %" PRIu64
			 " entries, %zu bytes: level 0, batches to %" PRIu64,
			 lsm_mem_count(m), lsm_mem_bytes(m), top);
		lsm_pending_trim(kv, top);
		__atomic_add_fetch(&kv->flushes, 1, __ATOMIC_RELAXED);
	}
	lsm_mem_unref(m);
	stall_wake(kv);
	return rc;
}

static int has_imm(struct kv *kv)
{
	int n;

	pthread_mutex_lock(&kv->ver_mu);
	n = kv->cur->nimm;
	pthread_mutex_unlock(&kv->ver_mu);
	return n > 0;
}

static void bg_failed(struct kv *kv, const char *what, int rc, uint32_t *pause)
{
	log_err("metadata: %s: failed (%s); trying again", what, strerror(-rc));
	pthread_mutex_lock(&kv->bg_mu);
	kv->bg_error = rc;
	if (!kv->stopping)
		bg_wait(kv, &kv->bg_cv, *pause);
	pthread_mutex_unlock(&kv->bg_mu);
	*pause = *pause * 2 > 5000 ? 5000 : *pause * 2;
}

static void *flush_main(void *arg)
{
	struct kv *kv = arg;
	uint32_t pause = 100;
	int rc;

	pthread_mutex_lock(&kv->bg_mu);
	while (!kv->stopping) {
		if (!has_imm(kv) || lsm_fenced(kv)) {
			bg_wait(kv, &kv->bg_cv, 1000);
			continue;
		}
		kv->flushing = 1;
		pthread_mutex_unlock(&kv->bg_mu);
		rc = lsm_flush_one(kv);
		if (rc < 0) {
			/* Counted before the pause, so a waiting kv_flush
			 * hears of it at once. */
			pthread_mutex_lock(&kv->bg_mu);
			kv->flush_failures++;
			kv->bg_error = rc;
			pthread_cond_broadcast(&kv->idle_cv);
			pthread_mutex_unlock(&kv->bg_mu);
			stall_wake(kv);
		}
		if (rc < 0 && !lsm_fenced(kv))
			bg_failed(kv, "flush", rc, &pause);
		else if (rc == 0)
			pause = 100;
		pthread_mutex_lock(&kv->bg_mu);
		kv->flushing = 0;
		if (rc == 0)
			kv->bg_error = 0;
		pthread_cond_broadcast(&kv->idle_cv);
	}
	pthread_mutex_unlock(&kv->bg_mu);
	return NULL;
}

/* Marks (or clears) the inputs of c as busy; bg_mu held. */
static void busy_mark(struct kv *kv, const struct lsm_compaction *c,
		      const struct lsm_manifest *m, int on)
{
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < c->nin[s]; i++) {
			uint64_t id = m->files[c->level + s][c->in[s][i]].id;

			if (on && kv->nbusy < sizeof(kv->busy) / 8) {
				kv->busy[kv->nbusy++] = id;
				continue;
			}
			for (size_t j = 0; !on && j < kv->nbusy; j++)
				if (kv->busy[j] == id)
					kv->busy[j] = kv->busy[--kv->nbusy];
		}
	}
}

/* Picks a compaction and a copy of the manifest its indexes refer to;
 * 1 picked, 0 nothing due. */
static int job_pick(struct kv *kv, struct lsm_compaction *c,
		    struct lsm_manifest *m)
{
	int rc;

	pthread_mutex_lock(&kv->man_mu);
	pthread_mutex_lock(&kv->bg_mu);
	rc = lsm_pick(&kv->man, &kv->pick_opt, &kv->cursor, kv->busy, kv->nbusy,
		      c);
	if (rc == 1 && lsm_manifest_copy(m, &kv->man) < 0) {
		lsm_compaction_clear(c);
		rc = -ENOMEM;
	}
	if (rc == 1) {
		busy_mark(kv, c, m, 1);
		kv->njobs++;
	}
	pthread_mutex_unlock(&kv->bg_mu);
	pthread_mutex_unlock(&kv->man_mu);
	return rc;
}

static void *job_main(void *arg)
{
	struct kv *kv = arg;
	struct lsm_compaction c;
	struct lsm_manifest m;
	uint32_t pause = 100;
	int rc;

	pthread_mutex_lock(&kv->bg_mu);
	while (!kv->stopping) {
		pthread_mutex_unlock(&kv->bg_mu);
		memset(&c, 0, sizeof(c));
		lsm_manifest_init(&m);
		rc = lsm_fenced(kv) ? 0 : job_pick(kv, &c, &m);
		if (rc == 1) {
			rc = lsm_compact_run(kv, &c, &m);
			if (rc < 0 && !lsm_fenced(kv))
				bg_failed(kv, "compaction", rc, &pause);
			pthread_mutex_lock(&kv->bg_mu);
			busy_mark(kv, &c, &m, 0);
			kv->njobs--;
			pthread_cond_broadcast(&kv->idle_cv);
			pthread_mutex_unlock(&kv->bg_mu);
			stall_wake(kv);
		}
		lsm_compaction_clear(&c);
		lsm_manifest_clear(&m);
		pthread_mutex_lock(&kv->bg_mu);
		if (rc <= 0 && !kv->stopping)
			bg_wait(kv, &kv->bg_cv, 1000);
	}
	pthread_mutex_unlock(&kv->bg_mu);
	return NULL;
}

static void *gc_main(void *arg)
{
	struct kv *kv = arg;
	uint64_t last = lsm_now_ms();

	pthread_mutex_lock(&kv->bg_mu);
	while (!kv->stopping) {
		bg_wait(kv, &kv->bg_cv, 1000);
		if (kv->stopping || lsm_now_ms() - last < LSM_GC_EVERY_MS)
			continue;
		pthread_mutex_unlock(&kv->bg_mu);
		if (!lsm_fenced(kv))
			kv_gc(kv, NULL);
		last = lsm_now_ms();
		pthread_mutex_lock(&kv->bg_mu);
	}
	pthread_mutex_unlock(&kv->bg_mu);
	return NULL;
}

int lsm_bg_start(struct kv *kv)
{
	int rc;

	rc = pthread_create(&kv->flush_thread, NULL, flush_main, kv);
	if (rc != 0)
		return -rc;
	kv->threads_started = 1;
	for (uint32_t i = 0; i < kv->opt.compaction_jobs; i++) {
		rc = pthread_create(&kv->job_threads[i], NULL, job_main, kv);
		if (rc != 0)
			return -rc;
		kv->njob_threads++;
	}
	rc = pthread_create(&kv->gc_thread, NULL, gc_main, kv);
	if (rc != 0)
		return -rc;
	kv->threads_started = 2;
	return 0;
}

void lsm_bg_stop(struct kv *kv)
{
	if (kv->threads_started == 0)
		return;
	pthread_mutex_lock(&kv->bg_mu);
	kv->stopping = 1;
	pthread_cond_broadcast(&kv->bg_cv);
	pthread_mutex_unlock(&kv->bg_mu);
	pthread_join(kv->flush_thread, NULL);
	for (int i = 0; i < kv->njob_threads; i++)
		pthread_join(kv->job_threads[i], NULL);
	if (kv->threads_started == 2)
		pthread_join(kv->gc_thread, NULL);
	kv->threads_started = 0;
}
