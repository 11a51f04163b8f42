-- Direct-to-storage uploads: a source can wait for its file (AWAITING_UPLOAD) while the client sends the bytes
-- straight to the blob store; the original is kept there (blob_key) for ingestion and re-ingestion.
alter table sources drop constraint sources_status_check;
alter table sources add constraint sources_status_check
  check (status in ('AWAITING_UPLOAD', 'PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'));
-- Where the original lives in the blob store (tenants/{tenant}/sources/{id}/v{n}/original); null for content
-- held in the row (JSON text) and for URL sources.
alter table sources add column blob_key text;
-- The original's size in bytes (declared for an upload, checked against the stored object on completion).
alter table sources add column byte_size integer;
-- Until when the upload URL is valid; never-completed uploads are removed 24 hours after creation.
alter table sources add column upload_expires_at timestamptz;
-- Set when ingestion found this content already ingested as another source of the tenant.
alter table sources add column duplicate_of uuid;
create index sources_awaiting_upload_idx on sources (tenant_id, created_at) where status = 'AWAITING_UPLOAD';
