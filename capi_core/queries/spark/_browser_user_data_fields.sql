-- Fragment (named_struct fields, not CTEs): the 16 stored user_data values and their *_check columns
-- of a canonical event row, from the ud array that _browser_user_data.sql builds; shared by the content
-- struct (CTE contents) of ingest_browser_events.sql, ingest_fbq_jsonl.sql and ingest_pixel_beacons.sql.
-- Expects the row alias r.
            'em', r.ud[0].stored, 'ph', r.ud[1].stored, 'fn', r.ud[2].stored, 'ln', r.ud[3].stored,
            'ct', r.ud[4].stored, 'st', r.ud[5].stored, 'zp', r.ud[6].stored, 'country', r.ud[7].stored,
            'db', r.ud[8].stored, 'ge', r.ud[9].stored, 'external_id', r.ud[10].stored, 'fbp', r.ud[11].stored,
            'fbc', r.ud[12].stored, 'client_ip_address', r.ud[13].stored, 'client_user_agent', r.ud[14].stored,
            'lead_id', r.ud[15].stored,
            'em_check', r.ud[0].check, 'ph_check', r.ud[1].check, 'fn_check', r.ud[2].check,
            'ln_check', r.ud[3].check, 'ct_check', r.ud[4].check, 'st_check', r.ud[5].check,
            'zp_check', r.ud[6].check, 'country_check', r.ud[7].check, 'db_check', r.ud[8].check,
            'ge_check', r.ud[9].check, 'external_id_check', r.ud[10].check, 'fbp_check', r.ud[11].check,
            'fbc_check', r.ud[12].check, 'client_ip_address_check', r.ud[13].check,
            'client_user_agent_check', r.ud[14].check, 'lead_id_check', r.ud[15].check,
