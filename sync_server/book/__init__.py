"""Getting loans in: the Excel loan book (template, checks, import), new disbursements over
the API, and the parallel run's convergence report."""
