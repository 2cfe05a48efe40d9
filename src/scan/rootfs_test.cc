#include "scan/rootfs.h"
