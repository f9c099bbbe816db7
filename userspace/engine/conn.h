/* engine/conn.c, inside the engine: a connection's life */
#ifndef BLAST_ENGINE_CONN_H
#define BLAST_ENGINE_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

uint32_t conn_room(const struct worker *w, const struct conn *c);
uint32_t conn_batch_min(const struct worker *w, const struct conn *c);
/* c's ack slots (w->slot_cap of them, all free). 0 or -ENOMEM. */
int conn_alloc_slots(struct worker *w, struct conn *c);
void conn_settle_inflight(struct worker *w, struct conn *c, bool lost);
bool conn_churn_may_open(const struct worker *w);
void conn_reopen_push(struct worker *w, struct conn *c);
void conn_finalize(struct worker *w, struct conn *c, bool graceful);
void conn_open(struct worker *w, struct conn *c);
void conn_arm_recv(struct worker *w, struct conn *c);
void conn_submit_send(struct worker *w, struct conn *c);
void conn_close_gracefully(struct worker *w, struct conn *c);
bool conn_owes_control(const struct worker *w, const struct conn *c);
bool conn_flush_control(struct worker *w, struct conn *c, bool small);
bool conn_send_owed_control(struct worker *w, struct conn *c);
void conn_flush(struct worker *w, struct conn *c, uint32_t n);
void conn_ready(struct worker *w, struct conn *c);
void conn_goodbye(struct worker *w, struct conn *c);

#endif
