// The output formats of `sseguard report`: a module of its own so that the command line can offer
// them without loading the command.
export const REPORT_FORMATS = ['table', 'json', 'csv', 'ocsf', 'ocsf-parquet'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
