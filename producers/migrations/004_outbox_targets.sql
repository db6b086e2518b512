-- Each outbox row names the regions its event goes to: the relay writes one record to each
-- region's inbox. A case's targets never change, so rows written before this column existed
-- take their case's targets.
ALTER TABLE outbox ADD COLUMN target_regions text[];
UPDATE outbox AS o SET target_regions = coalesce(
    (SELECT c.target_regions FROM cases AS c WHERE c.case_id = o.case_id), '{}');
-- No default: a writer that does not name the targets fails instead of sending nowhere.
ALTER TABLE outbox ALTER COLUMN target_regions SET NOT NULL;
