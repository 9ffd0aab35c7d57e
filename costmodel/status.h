// Moved to base/status.h; this forwarding header goes once every include is rewritten.
#pragma once
#include "base/status.h"
