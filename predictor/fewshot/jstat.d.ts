// The part of jstat (no types of its own) that few-shot uses: Student's t quantile for the
// prediction intervals.
declare module 'jstat' {
  const jstat: {
    studentt: {
      /** quantile: the t with P(T ≤ t) = p for `dof` degrees of freedom */
      inv(p: number, dof: number): number;
    };
  };
  export default jstat;
}
