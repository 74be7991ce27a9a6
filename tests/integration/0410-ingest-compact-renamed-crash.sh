#!/usr/bin/env bash
# 0409, and ingest B is killed too, after its compaction swapped the hour
# folder and before its bookkeeping: the file is gone from the folder and
# its row names no merge. Ingest C must start and lose nothing.
A_FAILPOINT=ingest.renamed:1 B_FAILPOINT=compact.swapped:1 exec bash "$(dirname "$0")/0408-ingest-compact-race.sh"
