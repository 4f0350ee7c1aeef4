/* placeholder; replaced by the cli */
int main(void) { return 0; }
