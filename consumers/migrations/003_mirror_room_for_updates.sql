-- Each mirrored case is updated once per version its source publishes (a handful in a case's
-- life). Room left on each page lets the new row version stay on its page (a HOT update): the
-- two indexes are not touched and the old version is pruned in place. In a 100k-event stream
-- this took the share of such updates from ~78% to ~97% and the mirror upsert ~20% faster.
ALTER TABLE mirror_cases SET (fillfactor = 70);
