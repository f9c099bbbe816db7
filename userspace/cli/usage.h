/* The --help text, kept apart from the parser so it reads as one page. */
#ifndef BLAST_USAGE_H
#define BLAST_USAGE_H

#include <stdio.h>

#include "config/version.h"

/* Prints the full help text to f. */
void usage_print(FILE *f);

#endif
