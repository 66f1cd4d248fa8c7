// D5, D3: each customer's data key (wrapped by the deployment key) seals their personal fields in
// customers, case_events, notifications and customer_corrections; deletion destroys it
// (crypto-shredding) and records when, so no new key is ever made for them again.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    alter table customers add column data_key text, add column data_key_shredded_at timestamptz;
    alter table customers add constraint customers_shredded_key_gone check (data_key_shredded_at is null or data_key is null);
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`alter table customers drop constraint customers_shredded_key_gone, drop column data_key, drop column data_key_shredded_at;`);
}
