// The fast path of pin (see fast.c).
#include "nsexec.h"

void nsx_fast_pin(char **args, char **envp)
{
	(void)args;
	(void)envp;
}
