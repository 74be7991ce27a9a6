#!/usr/bin/env bash
# 0408 with ingest A killed after renaming its file into the hour folder and
# before marking it published: B's compaction merges the file, and B must
# then start, count it published and lose nothing.
A_FAILPOINT=ingest.renamed:1 exec bash "$(dirname "$0")/0408-ingest-compact-race.sh"
