/* nosym.c - a shared object without the descriptor symbol: refused. */
int bast_not_a_plugin(void);
__attribute__((visibility("default"))) int
bast_not_a_plugin(void)
{
    return 1;
}
