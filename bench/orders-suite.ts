/**
 * The suite the validation benches share: an orders export of 8 columns (order_id, customer_id,
 * amount, quantity, status, email, created_at, discount) with the checks a contract of one would
 * have. bench:validate uses 11 of them; bench:scale adds a max on discount (12) and a row-count
 * bound a 10 GB file stays under.
 */

/** The one expectation on discount that bench:scale adds. */
const DISCOUNT_MAX = `  - type: expect_column_max_to_be_between
    kwargs: { column: discount, min_value: 0, max_value: 0.5 }
`;

/** The uniqueness expectation, as it stands in the suite's text (bench:scale --no-unique leaves it out). */
export const UNIQUE_ORDER_ID = `  - type: expect_column_values_to_be_unique
    kwargs: { column: order_id }
`;

export function ordersSuite(options: { rowCountMax: number; discountMax: boolean }): string {
  const { rowCountMax, discountMax } = options;
  return `
name: bench-orders
source: { type: s3-upload, prefix: landing/bench-orders/ }
format: { type: csv }
schema:
  type: object
  required: [order_id, customer_id, amount, quantity, status]
  properties:
    order_id: { type: string }
    customer_id: { type: string }
    amount: { type: number }
    quantity: { type: integer }
    status: { type: string }
    email: { type: string }
    created_at: { type: string }
    discount: { type: [number, "null"] }
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: { column: order_id }
  - type: expect_column_values_to_not_be_null
    kwargs: { column: customer_id }
  - type: expect_column_values_to_not_be_null
    kwargs: { column: amount }
  - type: expect_column_values_to_be_unique
    kwargs: { column: order_id }
  - type: expect_column_values_to_be_between
    kwargs: { column: amount, min_value: 0, max_value: 100000 }
  - type: expect_column_values_to_be_between
    kwargs: { column: quantity, min_value: 1, max_value: 100, mostly: 0.95 }
  - type: expect_column_values_to_be_in_set
    kwargs: { column: status, value_set: [pending, paid, shipped, cancelled] }
  - type: expect_column_values_to_match_regex
    kwargs: { column: email, regex: "^[^@\\\\s]+@[^@\\\\s]+\\\\.[a-z]{2,}$" }
  - type: expect_column_value_lengths_to_be_between
    kwargs: { column: customer_id, min_value: 2, max_value: 6 }
  - type: expect_column_mean_to_be_between
    kwargs: { column: amount, min_value: 2000, max_value: 3000 }
  - type: expect_table_row_count_to_be_between
    kwargs: { min_value: 1, max_value: ${rowCountMax} }
${discountMax ? DISCOUNT_MAX : ''}on_failure: quarantine
`;
}
