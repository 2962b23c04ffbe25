"""What the tests, the benchmarks and the scripts use to stand something up on this machine: a
free loopback port for a server, a live uvicorn server in a thread, a scratch PostgreSQL
database that is gone afterwards.

It lives beside the product, not in it: the server, the desk and loancore never import it (an
import contract says so), and it imports none of them, so a script can use it without the
product being importable and the tests' helpers stay out of what is shipped.
"""
