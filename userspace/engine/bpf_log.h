/* libbpf's own messages: blast prints one line of its own when loading
 * fails, so libbpf stays quiet unless BLAST_BPF_DEBUG is set (then all of
 * it, the verifier's log included, goes to stderr). */
#ifndef BLAST_BPF_LOG_H
#define BLAST_BPF_LOG_H

/* Installs the policy; call before opening a skeleton. */
void bpf_log_init(void);

#endif
