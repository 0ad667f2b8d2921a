/* wc: count the words on standard input (a tiny program for the quickstart pipeline). */
#include <ctype.h>
#include <stdio.h>

int main(void)
{
	unsigned long words = 0;
	int c, in_word = 0;
	while ((c = getchar()) != EOF) {
		if (isspace(c)) {
			in_word = 0;
		} else if (!in_word) {
			in_word = 1;
			words++;
		}
	}
	printf("%lu\n", words);
	return 0;
}
