/* A dynamically linked, threaded glibc program: what users run, unlike a
 * static busybox. Starts a thread (clone3 in glibc >= 2.34) and prints from
 * it and from main. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *thread_main(void *arg)
{
	printf("hello from a glibc thread (%s)\n", (const char *)arg);
	fflush(stdout);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	int e = pthread_create(&t, NULL, thread_main, argc > 1 ? argv[1] : "no arg");

	if (e != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(e));
		return 1;
	}
	pthread_join(t, NULL);
	printf("glibc main done\n");
	return 0;
}
