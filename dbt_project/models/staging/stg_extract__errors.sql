-- Files (or forms) that could not be read, with the reason.
select
    file,
    sha256,
    error_class,
    message,
    pages
from {{ source('extract', 'extract_errors') }}
