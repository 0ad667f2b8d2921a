strcpy(d, s); const char *m = "runner:ignore c.strcpy -- in a string";
