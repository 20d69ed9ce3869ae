/* The exit status must reach runsc-lite's own exit status. */
int main(void) { return 42; }
