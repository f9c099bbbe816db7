/* Protobuf field generators: the text after --field NAME= (seq, now,
 * uniform:LO:HI, normal:MEAN:SD, bernoulli:P, choice:A|B, bytes:N,
 * const:V or a plain value) checked against the field's type and turned
 * into a plan node. */
#ifndef BLAST_PAYLOAD_PB_FIELDS_H
#define BLAST_PAYLOAD_PB_FIELDS_H

#include "payload/pb_plan.h"
#include "payload/pb_schema.h"

/* Gives k field f's number, type and pre-encoded tag. */
void pb_node_tag(struct pb_node *k, const struct pb_field *f);

/* Fills leaf k (tagged for f) from generator text gen. Returns 0, or <0
 * after pb_fail. */
int pb_node_set_gen(struct pb_build *b, const struct pb_field *f, struct pb_node *k,
		    const char *gen);

#endif
