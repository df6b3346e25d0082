-- Screening and every re-check count each site's accounts in other requests by upper(site_ods)
-- (services/store/screening-history.ts). Without an index on that expression each count read the
-- whole of request_accounts: at 200,000 accounts, a parallel sequential scan of 100-250 ms per
-- screening; with it, a bitmap scan of the site's rows, 10-20 ms.
CREATE INDEX request_accounts_site ON request_accounts (upper(site_ods));
