// Working-calendar years loaded by an operator (a year the shipped package does not cover yet,
// or a correction). Shipped years come from the chinese-days package and are not stored.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create table calendar_years (
      year        integer primary key check (year between 2000 and 2100),
      holidays    text[] not null,
      workdays    text[] not null,
      loaded_by   text not null,
      loaded_at   timestamptz not null default now()
    );
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`drop table calendar_years;`);
}
