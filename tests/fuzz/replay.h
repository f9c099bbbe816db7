/* Replays fuzz inputs given as files, so a fuzz target also builds and runs
 * without libFuzzer (gcc, -DWITH_MAIN): include it after
 * LLVMFuzzerTestOneInput. */
#ifndef BLAST_FUZZ_REPLAY_H
#define BLAST_FUZZ_REPLAY_H
#ifdef WITH_MAIN
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");
		uint8_t *buf;
		long len;

		if (!fp || fseek(fp, 0, SEEK_END) || (len = ftell(fp)) < 0 ||
		    fseek(fp, 0, SEEK_SET)) {
			perror(argv[i]);
			return 1;
		}
		buf = malloc(len ? (size_t)len : 1);
		if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len) {
			perror(argv[i]);
			return 1;
		}
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		printf("%s: ok\n", argv[i]);
	}
	return 0;
}
#endif
#endif
