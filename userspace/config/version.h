#ifndef BLAST_VERSION_H
#define BLAST_VERSION_H
#define BLAST_VERSION "0.1"
#endif
