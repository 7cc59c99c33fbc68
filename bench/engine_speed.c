/* bench/engine_speed.c - placeholder, replaced with the body-signature benchmark. */
#include "config.h"
int main(void)
{
    return 0;
}
