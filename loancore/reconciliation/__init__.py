"""Bank reconciliation rules: reading Indian narrations and matching bank lines to the book.

Pure: the server feeds it bank lines and the payments and deposits it holds, and stores what
comes back. Nothing here touches a database or a file.
"""
